pytest_plugins = ["tests.fake_wechat_api", "tests.fake_realname", "tests.fake_sms", "tests.services", "tests.harness"]
