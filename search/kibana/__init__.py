"""Kibana: the saved objects dropsift ships and the command that installs them."""
