"""Plain service functions for the newsletter: views and tasks stay thin and call these."""
