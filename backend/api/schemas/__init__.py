"""Request and response models: Base/Create/Update/Public families per resource."""
