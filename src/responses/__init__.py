"""The OpenAI Responses API over the chat mapping: pure request/answer mapping (`mapping`), the
stream transcoder (`stream`) and stored responses (`store`). `handlers.responses` is the HTTP glue.
"""
