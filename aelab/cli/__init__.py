"""The command-line programs: `aelab train | evaluate | sweep | export | codec` (the
console script), also run as `python experiments/<program>.py`."""
