"""Invisible watermarks: pure numpy signal processing, independent of the regulatory layer.

``payload`` defines what the 64 raw bits mean; engines (``image``) embed and detect them.
"""
