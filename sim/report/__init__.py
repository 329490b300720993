"""Reading stored results: analysis tables, plots, findings and policy briefings."""
