"""Studio tests never touch the user's settings or app data, and start from a fresh first run."""
import pytest
from PySide6.QtCore import QSettings, QStandardPaths


@pytest.fixture(autouse=True)
def isolated_studio_settings(tmp_path_factory):
    """QSettings (INI, user scope) in a fresh temporary folder; QStandardPaths in test mode."""
    QStandardPaths.setTestModeEnabled(True)
    folder = tmp_path_factory.mktemp("qsettings")
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(folder))
    yield folder
