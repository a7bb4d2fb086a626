"""The viewer's pages: each module builds one page's view model and answers its route (HTML or JSON)."""
