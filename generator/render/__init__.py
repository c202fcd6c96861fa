"""Rendering: ``Page``s, as they come, -> the files of the report site in one folder.

By job:

    writer     write_site and prepare: the files each page becomes, written here or by
               forked workers on every core (installdata/parallel.py)
    page_files the files of one page: planned and claimed first, then written
    paths      page paths checked, each file claimed once, none written through a link
    keep       a file whose bytes are unchanged keeps the published site's file (a link)
    formats    JSON and CSV bytes, and the printable-HTML pass over a finished page
    templates  the Jinja environment: template folder, filters, the site menu

``from generator.render import prepare, write_site`` is all the build needs.
"""

from generator.render.writer import Written, prepare, write_site

__all__ = ["Written", "prepare", "write_site"]
