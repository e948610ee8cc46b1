"""What the tests share: real servers on 127.0.0.1, the example store, a daemon process,
and waiting on a condition with a deadline. Test modules import from here, never from
one another."""
