"""Text helpers of the clean stage: decoding, extraction, furniture removal, sentences, language, dedup, stems."""
