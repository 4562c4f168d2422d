"""SigmaLang's ``sigmalang.core`` package path: ``sigmalang.core.streaming_encoder`` is
where SigmaLang's users import the streaming encoder from."""
