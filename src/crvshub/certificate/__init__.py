"""Certificates: country templates, PDFs, signed QR payloads and public verification."""
