"""linkwatch: keeps the citations of published press releases alive."""

# The one place the version is written; pyproject.toml reads it from here. A literal,
# not importlib.metadata, which costs a tenth of `linkwatch report`'s start-up.
__version__ = "0.1.0"
