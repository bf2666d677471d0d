"""Production serving: Prometheus metrics (``metrics``), load shedding (``shedding``) and the
gunicorn worker and hooks that go with them (``gunicorn``). docs/deployment.md describes them."""
