pytest_plugins = ["tests.fake_wechat_api", "tests.services", "tests.harness"]
