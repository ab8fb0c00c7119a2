"""Base spiders, one per course software: a site running it is a spider of a few lines."""
