"""The dashboard needs no permission of its own: it shows each panel only to
those holding that panel's permission."""
