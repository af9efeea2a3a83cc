"""Governance by the rules the system serves (政府网站与政务新媒体 guidelines).

    lifecycle.py     registry rules: applied → active → suspended → closed, 备案, one account per platform
    registry.py      lifecycle changes in the store: request, approve, reject, 备案 records (audited)
    credentials.py   secrets sealed at rest with Fernet keys; key rotation
    token_health.py  an account whose token is expired or revoked turns "needs reconnect"
    freshness.py     睡眠 and 僵尸 channels, stale columns (pure rules)
    workdays.py      working days by the official holiday calendar (chinese-calendar)
    deadlines.py     publishing deadlines: normative documents, 民生 activities, replies (pure rules)
    monitor.py       freshness and deadlines read from the store, for reports, API and CLI
    quarterly.py     the quarterly report per unit (HTML with SVG charts, and CSV)
    charts.py        small inline SVG charts
    rescan.py        published items scanned again when the dictionary changes, and daily
    fastlane.py      emergency items jump every distribution queue

Rules are plain functions over plain values (tested directly); the store, API and CLI call them.
Nothing is imported here, so the registry can use `credentials` without pulling in the rest.
"""
