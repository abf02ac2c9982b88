"""Main job placeholder: replaced by the cookbook run once the foundation lands."""

import eigenlake

print(eigenlake.build_info())
