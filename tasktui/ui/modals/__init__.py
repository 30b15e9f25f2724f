"""Modal dialogs over a screen: questions, prompts, the fix editor and the bulk flow."""
