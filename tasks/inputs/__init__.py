"""The files analysts maintain: claims, alias lists and the source registry file."""
