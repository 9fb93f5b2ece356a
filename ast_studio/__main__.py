import sys

from ast_studio.launcher import main

sys.exit(main())
