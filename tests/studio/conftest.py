"""Studio tests never touch the user's settings or app data, start from a fresh first run,
and fail when the Qt binding loses references to None."""
import pytest
from PySide6.QtCore import QSettings, QStandardPaths

from none_references import NONE_IS_IMMORTAL, NoneReferences


@pytest.fixture(autouse=True)
def isolated_studio_settings(tmp_path_factory):
    """QSettings (INI, user scope) in a fresh temporary folder; QStandardPaths in test mode."""
    QStandardPaths.setTestModeEnabled(True)
    folder = tmp_path_factory.mktemp("qsettings")
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(folder))
    yield folder


@pytest.fixture(autouse=True)
def none_keeps_its_references(request):
    """Fail the test when ``sys.getrefcount(None)`` fell during it.

    PySide6 6.12.0 on Python 3.11 drops one reference to None on every Qt call that returns
    nothing; once the count reaches zero the interpreter aborts (``Fatal Python error:
    none_dealloc``) in the middle of an artist's brush stroke. A test run never lasts long
    enough to crash, so this guard turns the loss itself into a failure. On Python 3.12+
    None is immortal and the check is skipped (the count never moves).
    """
    if NONE_IS_IMMORTAL:
        yield
        return
    watch = NoneReferences()
    yield
    problem = watch.problem(request.node.nodeid)
    if problem:
        pytest.fail(problem, pytrace=False)
