"""What readers see: maps, the report and brief (HTML, Markdown, PDF), languages."""
