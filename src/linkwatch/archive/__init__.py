"""Archives of cited pages: look-ups, saves and the choice of a capture per citation.

`base` defines what every backend offers (`wayback`, `pywb`); `factory`
builds the one the settings name; `policy` and `choose` hold the pure
decisions (when to save, how fast, which capture a citation gets);
`replay` judges a capture by replaying it through the checker; `archives`
is the list of Memento archives looked up besides the backend (each asked by
`backends.memento`), `timemap` reads their TimeMaps.
"""
