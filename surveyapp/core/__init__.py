"""App-wide pages: home, health check, language switch and error pages."""
