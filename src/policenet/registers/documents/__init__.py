"""The travel documents register: stolen, lost, revoked and invalidated documents.

- :mod:`.countries`: ICAO 9303 issuing-state codes and the country that owns them;
- :mod:`.mrz`: reading (and writing) the machine-readable zone of a document;
- :mod:`.record`: the record, its validation and natural key;
- :mod:`.index`: the in-memory index searched by document number, exact or OCR-tolerant.
"""
