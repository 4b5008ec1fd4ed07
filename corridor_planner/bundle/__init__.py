"""Read a bundle folder into validated objects: corridor, posts, scenarios, cover, costs."""
