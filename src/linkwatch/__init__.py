"""linkwatch: keeps the citations of published press releases alive."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("linkwatch")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0.0.0"
