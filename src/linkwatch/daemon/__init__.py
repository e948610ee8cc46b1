"""`linkwatch run`: the daemon.

`service` runs the scheduler, the jobs and the endpoint in one loop; `jobs`
holds what each job does (the CLI's functions); `schedule` the job defaults;
`threads` blocking work off the loop; `server` `/healthz`, `/metrics` and the
report page; `logs` one line per event.
"""
