"""The foundation: paths, files, workbooks, limits, text and number formatting, settings, errors and
process hooks. Imports nothing else of zpb."""
