"""The platform side of the shared suite: it runs an app the way Heroku does.

Used by the suite (tests/) and the benchmark (bench/): one place that knows how to find
an app, give it a database, start its Procfile lines and stop them.
"""
