/*
 * spectral.h -- librosa-exact short-time spectral features for one frame:
 * magnitude STFT (Hann, n_fft 2048), spectral centroid, Slaney mel power
 * spectrogram (128 bands, 0..sr/2, area-normalised) in dB, and MFCC.
 *
 * References: librosa 0.11 feature.spectral_centroid, feature.melspectrogram,
 * power_to_db, feature.mfcc; Slaney, "Auditory Toolbox" (1998) mel scale;
 * DCT-II orthonormal (Makhoul 1980).
 *
 * Thread-safety: one vx__spectral per thread (it owns work buffers).
 */
#ifndef VX_ANALYSIS_SPECTRAL_H
#define VX_ANALYSIS_SPECTRAL_H

#include <stddef.h>

#define VX__N_FFT 2048
#define VX__HOP 512
#define VX__N_MELS 128
#define VX__N_BINS (VX__N_FFT / 2 + 1)

typedef struct vx__spectral vx__spectral;

/** Plans FFTW (under the planner lock) and builds the mel filterbank for
 *  sample rate sr_hz.  NULL on allocation failure or sr_hz <= 0. */
vx__spectral *vx__spectral_new(int sr_hz);
void vx__spectral_free(vx__spectral *s);

/**
 * One frame: frame points at VX__N_FFT unwindowed samples (already centred
 * and zero-padded as librosa's center=True does).  Applies the periodic Hann
 * window, computes |X|, and writes:
 *   *centroid_hz  sum(f*|X|)/sum(|X|) (0 when sum(|X|) is below FLT_MIN like
 *                 librosa.util.normalize's threshold)
 *   mel_db[128]   10*log10(max(1e-10, mel power)) -- before top_db clipping
 * No allocation.
 */
void vx__spectral_frame(vx__spectral *s, const float *frame,
                        double *centroid_hz, float *mel_db);

/** MFCC of one frame from its mel dB, clipped from below at floor_db
 *  (= global max dB - 80, librosa's top_db), DCT-II orthonormal, first 13. */
void vx__mfcc_from_mel_db(const float *mel_db, float floor_db, float *mfcc13);

/** The same for n consecutive frames: mel_db is n x 128, mfcc13 n x 13;
 *  bit-identical to vx__mfcc_from_mel_db frame by frame (two frames are
 *  computed side by side). */
void vx__mfcc_frames(const float *mel_db, size_t n, float floor_db, float *mfcc13);

#endif
