"""Notifications: tell people in the tools they use (through Apprise), only what is new.

`run.notify_pass` is the one function the CLI and the daemon call when a check,
an archive run or a rewrite finishes; `events` finds what there is to say,
`message` words it, `send` hands it to Apprise, one URL at a time.
"""
