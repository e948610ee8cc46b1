"""Content drift: a cited page that still answers 200 but no longer says what was cited.

`maintext` reads a page's main text (boilerplate discounted), `prints` turns
title and main text into a small fingerprint and compares two of them,
`compare` judges a checked page against its citations' snapshots (called by
the check run), `replays` fingerprints chosen snapshots once (called by the
archive run).
"""
