"""What the package's commands run on this machine (`run`, `recover`, the demo), and the tests with them:
the real engine with a local backend (`local_stack`), and one recovery after an interrupted command."""
