"""IPython integration: ``%load_ext jupyter_dsagent`` and the ``%dsagent`` magics."""
