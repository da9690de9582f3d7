# voice_report.praat -- Praat reference values for voxclone's voice metrics.
#
# usage: praat --run voice_report.praat FILE.wav
# prints one line: jitter_local_pct shimmer_local_pct hnr_db f1_hz f2_hz f3_hz
# ("--undefined--" where Praat cannot measure a value).
#
# Settings are exactly those of docs/metrics.md:
#   pulses:   To PointProcess (periodic, cc): 75, 600
#             (Praat takes its pitch from "To Pitch: 0, 75, 600" internally)
#   jitter:   Get jitter (local): 0, 0, 0.0001, 0.02, 1.3
#   shimmer:  Get shimmer (local): 0, 0, 0.0001, 0.02, 1.3, 1.6
#   HNR:      To Harmonicity (cc): 0.01, 75, 0.1, 1.0 ; Get mean: 0, 0
#   formants: To Formant (burg): 0, 5, 5500, 0.025, 50 ; median of F1..F3
#             over the Formant frames whose time is voiced in
#             "To Pitch: 0, 75, 600" (the pitch behind the pulses).
form Voice report
	sentence File
endform

sound = Read from file: file$
if do ("Get number of channels") > 1
	mono = Convert to mono
	removeObject: sound
	sound = mono
endif

selectObject: sound
pitch = To Pitch: 0, 75, 600
selectObject: sound
pulses = To PointProcess (periodic, cc): 75, 600
jitter = Get jitter (local): 0, 0, 0.0001, 0.02, 1.3
selectObject: sound, pulses
shimmer = Get shimmer (local): 0, 0, 0.0001, 0.02, 1.3, 1.6

selectObject: sound
harmonicity = To Harmonicity (cc): 0.01, 75, 0.1, 1.0
hnr = Get mean: 0, 0

selectObject: sound
formant = To Formant (burg): 0, 5, 5500, 0.025, 50
numberOfFrames = Get number of frames
t1 = Get time from frame number: 1
dt = Get time step
# voiced frames: the Pitch value at the frame time is defined
voiced# = zero# (numberOfFrames)
selectObject: pitch
for iframe from 1 to numberOfFrames
	t = t1 + (iframe - 1) * dt
	f0 = Get value at time: t, "Hertz", "linear"
	voiced# [iframe] = (f0 <> undefined)
endfor
selectObject: formant
med# = zero# (3)
for k from 1 to 3
	values# = zero# (numberOfFrames)
	n = 0
	for iframe from 1 to numberOfFrames
		if voiced# [iframe]
			t = t1 + (iframe - 1) * dt
			f = Get value at time: k, t, "hertz", "linear"
			if f <> undefined
				n += 1
				values# [n] = f
			endif
		endif
	endfor
	if n = 0
		med# [k] = undefined
	else
		kept# = zero# (n)
		for i from 1 to n
			kept# [i] = values# [i]
		endfor
		sorted# = sort# (kept#)
		if n mod 2 = 1
			med# [k] = sorted# [(n + 1) / 2]
		else
			med# [k] = (sorted# [n / 2] + sorted# [n / 2 + 1]) / 2
		endif
	endif
endfor

writeInfoLine: jitter * 100, " ", shimmer * 100, " ", hnr, " ", med# [1], " ", med# [2], " ", med# [3]
