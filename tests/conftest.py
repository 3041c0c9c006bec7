def pytest_configure(config):
    config.addinivalue_line(
        "markers", "soak: long randomised differential run (tests/test_differential.py), "
        "opt-in with CHAINRULE_SOAK=N")
