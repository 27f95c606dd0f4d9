"""The code hosts PoetFlow talks to over their REST APIs: GitHub (``github.py``) and GitLab
(``gitlab.py``), on one small HTTP helper (``http.py``: retries on rate limits, pagination).

Each client is a thin, typed layer of endpoints (releases and their files today); what to
do with them (find or create a release, upload what is missing) is the caller's job.
Nothing here is imported until a command needs a code host.
"""
