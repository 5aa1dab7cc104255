"""The Azure side: the az plan per chapter, the rules each feature's prerequisites
impose, and offline validation of az lines by azure-cli's own handlers."""
