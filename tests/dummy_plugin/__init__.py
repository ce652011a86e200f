"""A plugin that implements every hook, so meta-tests can prove each one is called."""
from core import PluginMeta

plugin = PluginMeta(name="dummy", version="1.0.0", title="Dummy", core_version=">=0.1,<1",
                    settings={"greeting": "hello", "level": 1})
