"""The cost optimizer's rules: from what a prompt version's calls show, the changes that would
make it cheaper (max_tokens, concise or structured answers, compressed text, provider and exact
caching, a cheaper model), each with the saving replayed from those calls."""
