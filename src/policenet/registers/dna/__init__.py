"""The DNA register: autosomal STR profiles, the rules that match them, and their weight.

- :mod:`.profile`: the profile record (loci, alleles, category), its validation
  and natural key, and the catalogue of locus names (CODIS core, ESS, others);
- :mod:`.matching`: the match rules (full, near, high/moderate/low stringency)
  with their sources, and which categories are searched against which;
- :mod:`.index`: the in-memory index that screens millions of profiles per search;
- :mod:`.frequencies`, :mod:`.statistics`, :mod:`.kinship`: allele frequencies,
  random match probabilities and likelihood ratios, kinship indices.

Alleles are integers in tenths of a repeat everywhere in the register
(``9.3 -> 93``, ``10 -> 100``), so that equal alleles compare equal exactly.

Profiles are personal data of the most sensitive kind: members are expected
to share them reference-only (the record envelope's mode), so that a hit gives
the enquirer the owner and the reference, and the profile itself travels only
in the follow-up between the two NCBs.
"""
