"""The API's routers; :data:`api.app.ROUTERS` lists those the app serves.

Routes reach shared state through the :data:`api.state.State` dependency and the
database through it: ``async with st.transaction() as conn`` (or ``st.statement()``).
"""
