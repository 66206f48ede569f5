"""One module per ``ssl-proofs`` command (``NAME``, ``HELP``, ``add_arguments``, ``run``)."""
