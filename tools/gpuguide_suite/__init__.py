"""The notebook suite: translations, checks, the papermill runner and the report."""
