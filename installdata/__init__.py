"""The core both programs share: configuration, the submissions folder and how it is counted.

``collector`` (the web service) and ``generator`` (the report build) import this package and
never each other. It holds what both must agree on: the config file, the one-line errors of
the command line, the file-drop format (the record, its atomic write, listing and reading the
folder into tables), the rules that say who is who, and the commands that delete
submissions. Importing it imports nothing heavy: ``collector serve`` never loads pandas.
"""
