"""The models view's use cases: every model configured or used, with what is known of it
(context window, prices, support, licence) and what this database measured of it; and whether
a comparison's prompts fit the models picked for it."""
