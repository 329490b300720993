"""One module per mechanism of MODEL.md, each a few plain functions over the user arrays.

``EconomyModel.step`` calls them in the order of the day's schedule (ODD 3).
"""
