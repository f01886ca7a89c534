"""The one thing pyproject.toml cannot declare: the optional C speed-up of the matcher's
text folding (monitor/_fold.c). Without a C compiler the build skips it and monitor runs
its pure-Python folding, which gives the same results more slowly."""

from setuptools import Extension, setup

setup(ext_modules=[Extension("monitor._fold", ["monitor/_fold.c"], optional=True)])
