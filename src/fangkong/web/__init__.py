"""The command dashboard (指挥大屏): server-rendered pages over the same services as the API."""
