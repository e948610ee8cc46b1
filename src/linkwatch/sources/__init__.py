"""Reading releases: which files, their bytes, their text, their date and title.

`files` finds the releases and reads their bytes safely; `decoding` turns the
bytes into text losslessly (encoding, byte-order mark, format); `meta` reads
what a release says about itself (title, publication date), with `dates`,
`lines` and `frontmatter` doing the reading.
"""

from linkwatch.sources.decoding import ReleaseFile, decode_release
from linkwatch.sources.files import find_releases, read_bytes
from linkwatch.sources.meta import release_meta

__all__ = ["ReleaseFile", "decode_release", "find_releases", "read_bytes", "release_meta"]
